#!/usr/bin/env bash
# Build (once) llama.cpp's own `llama-server` from the llama.cpp source that
# llama-cpp-python vendors, with the same portable flags as scripts/llama-wheel.sh,
# so bench/engine_vs_llama_server.py compares engines over identical kernels.
# Not part of `make test`; prints the cached binary's path.
set -euo pipefail
version=0.3.36
cache=${XDG_CACHE_HOME:-$HOME/.cache}/modelport/llama-server/$version
bin=$cache/llama-server
python=${PYTHON:-python3}
if [ ! -x "$bin" ]; then
    work=$(mktemp -d)
    trap 'rm -rf "$work"' EXIT
    echo "building llama-server from llama-cpp-python $version's llama.cpp (10-15 minutes, once)" >&2
    "$python" -m pip download --quiet --no-deps --no-binary :all: \
        "llama-cpp-python==$version" -d "$work" >&2
    tar -xzf "$work"/llama_cpp_python-"$version".tar.gz -C "$work"
    src=$work/llama_cpp_python-$version/vendor/llama.cpp
    cmake -S "$src" -B "$work/build" -DCMAKE_BUILD_TYPE=Release \
        -DLLAMA_CURL=OFF -DLLAMA_BUILD_SERVER=ON -DLLAMA_BUILD_TESTS=OFF \
        -DLLAMA_BUILD_EXAMPLES=OFF -DBUILD_SHARED_LIBS=OFF \
        -DGGML_NATIVE=OFF -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON -DGGML_AVX512=OFF \
        -DGGML_AMX_TILE=OFF -DGGML_AMX_INT8=OFF -DGGML_AMX_BF16=OFF -DGGML_BLAS=OFF \
        -DGGML_OPENMP=ON >&2
    cmake --build "$work/build" --config Release --target llama-server -j"${JOBS:-2}" >&2
    mkdir -p "$cache"
    cp "$work/build/bin/llama-server" "$bin.tmp"
    mv "$bin.tmp" "$bin"
fi
echo "$bin"
