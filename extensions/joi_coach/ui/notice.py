"""What Joi is and is not, and where the person's memories live: shown at first start."""

from pathlib import Path

ACKNOWLEDGED_KEY = "notice_acknowledged"  # bank meta: when the person closed the first-start notice


def first_start_notice(data_dir: Path, where: str = "the **Memory** tab") -> str:
    """The notice's markdown; ``where``: the place memories are browsed and forgotten."""
    return (
        "### Before you start\n"
        "- **Joi is an AI coach: a computer program, not a person.** It is not a therapist, a doctor "
        "or an emergency service, and it can be wrong.\n"
        "- **In a crisis, reach a person.** If you are in danger or thinking about harming yourself, "
        "call your local emergency number or a crisis line. The **Safety** tab lists lines for your "
        "country and keeps your own safety plan.\n"
        f"- **What you share stays on this machine**, in `{data_dir}`. Nothing is sent anywhere.\n"
        f"- **You decide what Joi remembers.** In {where} you can read, edit, export and forget "
        "any memory."
    )
