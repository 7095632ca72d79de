"""Files clients upload and download through signed URLs (api-catalogue-completion §2–§4):
`api-upload-url`, `PUT /files/upload/{token}`, `GET|HEAD /files/download/{token}` and the
`file-url` / `image-url` sub-routes. The bytes live behind `floorsync.storage`; the
`stored_files` row holds the state. No network or disk I/O runs inside a transaction."""
