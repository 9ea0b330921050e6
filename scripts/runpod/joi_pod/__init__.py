"""Start text-generation-webui with Joi Coach inside a container (a Runpod pod, or any GPU box).

Run by ``entrypoint.sh`` (``python3 -m joi_pod``) on every start of the container. In order:

1. **Volume.** Everything the person keeps lives under ``$JOI_WORKSPACE/joi-coach`` (the pod's
   ``/workspace`` volume): the webui's ``user_data`` (models, chats, settings, characters) with
   Joi's memory stores in ``user_data/joi_coach``, the sign-in secrets, and the download cache.
   Missing host defaults are copied in; Joi's character and template are refreshed unless the
   person edited them.
   **At rest.** With ``JOI_PASSPHRASE`` (a Runpod secret), Joi's data folder is encrypted by
   Joi's own CLI on the first start that finds it plain, and the webui gets the passphrase as
   ``JOI_PASSPHRASE_FILE``, a root-only file in memory (never the variable, never the volume);
   ``JOI_NEW_PASSPHRASE`` changes it. Without one, an encrypted folder starts locked.
2. **Access.** The web UI always asks for a user name and password (``--gradio-auth-path``), and
   the API always wants a key. Given as ``JOI_PASSWORD`` / ``JOI_API_KEY``, or generated on the
   first start, kept on the volume and printed once, on that start.
3. **Model.** ``JOI_MODEL`` (a Hugging Face repo id, ``repo:branch``, with ``JOI_MODEL_FILE`` for
   one GGUF file) is downloaded with the webui's own ``download-model.py`` unless a finished
   download is on the volume; then loaded with the loader that matches its format.
4. **Launch.** ``server.py`` with Joi's extension, the API, the Joi character (through the
   first-start ``settings.yaml``) and the flags above; ``EXTRA_LAUNCH_ARGS`` last.

``--dry-run`` prepares the volume (steps 1-2 are the same, less encrypting) but prints the
encrypt, download and launch commands instead of running them (no secret in any of them);
``--json`` prints the plan as JSON (secrets redacted). Standard library only, so it runs in
the webui image's own Python (encrypting is Joi's CLI, in a child process).
"""
