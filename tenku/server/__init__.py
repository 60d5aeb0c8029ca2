"""`tenku serve`: an OpenAI Videos API (Sora 2) compatible server, so code that calls `client.videos.*` on the
official `openai` SDK works against a self-hosted model by pointing `base_url` at it.

Modules, in the order a request meets them: settings (ServerSettings), app (create_app, middleware, error
envelopes), auth (API keys), videos (the routes), intake (bodies, validation, uploads -> jobs), uploads (safe
decoding), schemas (the wire format), jobs (the job store), queues (Huey), worker (generation, recovery),
generator (the Generator protocol and the pipeline adapter), fake (the pipeline's contract in numpy, for
tests and demos), webhooks.
"""
