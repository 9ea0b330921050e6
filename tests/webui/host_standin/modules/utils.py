"""``check_model_loaded`` as ``modules/utils.py`` has it (the host also logs the message)."""

from modules import shared


def check_model_loaded():
    if shared.model_name == "None" or shared.model is None:
        return False, "No model is loaded. Please select one in the Model tab."
    return True, None
