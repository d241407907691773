"""Image generation (`/v1/images/generations`, `/v1/images/edits`): models, vendors, storage."""
