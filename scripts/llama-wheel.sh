#!/usr/bin/env bash
# Build (once) the llama-cpp-python wheel with flags that are portable across
# x86-64 VMs: the default native build emits AMX instructions that fault here.
# The wheel lands in the given gitignored dir and in a per-user cache, so a
# fresh clone on the same machine installs it in seconds.
set -euo pipefail
version=0.3.36
dest=${1:-.wheels}
cache=${MODELPORT_WHEEL_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/modelport/wheels}
python=${PYTHON:-python3}
mkdir -p "$dest" "$cache"
pattern="llama_cpp_python-${version}-*.whl"
if ! compgen -G "$dest/$pattern" >/dev/null; then
    if compgen -G "$cache/$pattern" >/dev/null; then
        cp "$cache"/$pattern "$dest"/
    else
        echo "building llama-cpp-python $version from source (about 10 minutes, once)"
        CMAKE_ARGS="-DGGML_NATIVE=OFF -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON -DGGML_AVX512=OFF -DGGML_AMX_TILE=OFF -DGGML_AMX_INT8=OFF -DGGML_AMX_BF16=OFF -DGGML_BLAS=OFF -DGGML_OPENMP=ON -DLLAVA_BUILD=OFF" \
        CMAKE_BUILD_PARALLEL_LEVEL=$(nproc) \
            "$python" -m pip wheel --no-deps --no-cache-dir "llama-cpp-python==$version" -w "$dest"
        cp "$dest"/$pattern "$cache"/
    fi
fi
