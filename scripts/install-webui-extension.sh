#!/usr/bin/env bash
# Install Joi Coach into a text-generation-webui checkout, leaving the webui's own packages as they were.
#
#   scripts/install-webui-extension.sh [--copy] [--python PY] [--skip-requirements] [--user-data-dir DIR] PATH_TO_WEBUI
#   scripts/install-webui-extension.sh --requirements-only [--python PY] PATH_TO_WEBUI
#   scripts/install-webui-extension.sh --uninstall [--user-data-dir DIR] PATH_TO_WEBUI
#
# The webui's user_data is found as the webui finds it: --user-data-dir (give the same one as
# the webui's own flag), else PATH_TO_WEBUI/user_data, else a portable build's ../user_data
# (../../user_data for the desktop build).
# What it does (running it again changes nothing that is already in place):
#   1. links (or with --copy, copies) into the webui's user_data/:
#        extensions/joi_coach, characters/Joi.yaml + Joi.png, instruction-templates/Joi-ChatML.yaml
#   2. installs extensions/joi_coach/requirements.txt into the webui's Python, with the webui's
#      installed torch, gradio, transformers, numpy (and their close companions) pinned as pip
#      constraints, so pip installs around them or fails; it never upgrades or replaces them.
#      A webui without torch (the llama.cpp-only "portable" builds) first gets the CPU build of
#      torch, for the embedding model ($JOI_TORCH_INDEX, default PyTorch's CPU index).
# --requirements-only does step 2 alone (the pod image places Joi's files itself).
# --uninstall removes only what this script put there. Joi's memories (user_data/joi_coach/)
# are the person's own data and are never deleted by it; the packages stay (the webui may share them).
set -euo pipefail

HERE=$(cd "$(dirname "$0")/.." && pwd)
MODE="link"
PYTHON=""
SKIP_REQUIREMENTS=0
REQUIREMENTS_ONLY=0
UNINSTALL=0
WEBUI=""
USER_DATA=""
REQUIREMENTS=${JOI_REQUIREMENTS_FILE:-$HERE/extensions/joi_coach/requirements.txt}
TORCH_INDEX=${JOI_TORCH_INDEX-https://download.pytorch.org/whl/cpu}
PROTECTED="torch torchvision torchaudio gradio gradio-client transformers tokenizers numpy huggingface-hub safetensors accelerate pydantic fastapi"

usage() { sed -n '2,13p' "$0" | sed 's/^# \{0,1\}//'; exit "${1:-0}"; }
die() { echo "install-webui-extension: $*" >&2; exit 1; }

while [ $# -gt 0 ]; do
  case "$1" in
    --copy) MODE=copy ;;
    --python) shift; PYTHON=${1:-} ;;
    --skip-requirements) SKIP_REQUIREMENTS=1 ;;
    --requirements-only) REQUIREMENTS_ONLY=1 ;;
    --uninstall) UNINSTALL=1 ;;
    --user-data-dir) shift; USER_DATA=${1:-}; [ -n "$USER_DATA" ] || die "--user-data-dir needs a folder" ;;
    --user-data-dir=*) USER_DATA=${1#*=} ;;
    -h|--help) usage 0 ;;
    -*) die "unknown option $1 (see --help)" ;;
    *) [ -z "$WEBUI" ] || die "one webui path, please"; WEBUI=$1 ;;
  esac
  shift
done
[ -n "$WEBUI" ] || usage 1
if [ "$REQUIREMENTS_ONLY" = 1 ] && { [ "$SKIP_REQUIREMENTS" = 1 ] || [ "$UNINSTALL" = 1 ]; }; then
  die "--requirements-only goes with neither --skip-requirements nor --uninstall"
fi
if [ ! -f "$WEBUI/server.py" ] || [ ! -f "$WEBUI/modules/extensions.py" ]; then
  die "$WEBUI does not look like text-generation-webui (no server.py and modules/extensions.py)"
fi
WEBUI=$(cd "$WEBUI" && pwd)
if [ -z "$USER_DATA" ]; then  # as modules/paths.py resolves it
  if [ -d "$WEBUI/user_data" ]; then USER_DATA="$WEBUI/user_data"
  elif [ -d "$WEBUI/../app" ] && [ -d "$WEBUI/../../user_data" ]; then USER_DATA="$WEBUI/../../user_data"
  elif [ -d "$WEBUI/../user_data" ]; then USER_DATA="$WEBUI/../user_data"
  else USER_DATA="$WEBUI/user_data"
  fi
fi
if [ "$REQUIREMENTS_ONLY" = 0 ]; then
  mkdir -p "$USER_DATA"
  USER_DATA=$(cd "$USER_DATA" && pwd)
fi

# source in this repository -> destination under user_data
PLACES=(
  "extensions/joi_coach|extensions/joi_coach"
  "characters/Joi.yaml|characters/Joi.yaml"
  "characters/Joi.png|characters/Joi.png"
  "instruction-templates/Joi-ChatML.yaml|instruction-templates/Joi-ChatML.yaml"
)
MARK=".joi-coach-installed"  # inside a copied extension folder: "this copy is ours"

ours() {  # is $2 (destination) something this script placed for $1 (source)?
  local source=$1 target=$2
  if [ -L "$target" ]; then [ "$(readlink -f "$target")" = "$(readlink -f "$source")" ]; return; fi
  if [ -d "$target" ]; then [ -f "$target/$MARK" ]; return; fi
  [ -f "$target" ] && cmp -s "$source" "$target"
}

same_kind() {  # is $1 a link when linking, a copy when copying?
  if [ "$MODE" = link ]; then [ -L "$1" ]; else [ ! -L "$1" ]; fi
}

place() {
  local source="$HERE/$1" target="$USER_DATA/$2"
  [ -e "$source" ] || die "missing $source"
  mkdir -p "$(dirname "$target")"
  if [ -e "$target" ] || [ -L "$target" ]; then
    if ours "$source" "$target" && same_kind "$target"; then
      if [ "$MODE" = copy ] && [ -d "$source" ]; then  # refresh a copied folder
        rm -rf "$target"; cp -R "$source" "$target"; touch "$target/$MARK"
        echo "  refreshed $2"
      else
        echo "  already in place: $2"
      fi
      return
    fi
    ours "$source" "$target" || die "$target exists and is not Joi's; move it away first"
    rm -rf "$target"  # ours, but linked where a copy is wanted (or the other way round)
  fi
  if [ "$MODE" = link ]; then
    ln -s "$source" "$target"
  else
    cp -R "$source" "$target"
    [ -d "$target" ] && touch "$target/$MARK"
  fi
  echo "  ${MODE}ed $2"
}

remove() {
  local source="$HERE/$1" target="$USER_DATA/$2"
  if [ ! -e "$target" ] && [ ! -L "$target" ]; then echo "  not there: $2"; return; fi
  if ours "$source" "$target"; then rm -rf "$target"; echo "  removed $2"; else echo "  kept $2 (not Joi's)"; fi
}

find_python() {
  if [ -n "$PYTHON" ]; then echo "$PYTHON"; return; fi
  local candidate
  for candidate in installer_files/env/bin/python portable_env/bin/python venv/bin/python .venv/bin/python; do
    if [ -x "$WEBUI/$candidate" ]; then echo "$WEBUI/$candidate"; return; fi
  done
  die "cannot find the webui's Python (installer_files/env, portable_env, venv); pass --python"
}

versions() {  # name==version of the protected packages installed in the webui's Python
  "$1" - "$PROTECTED" <<'PY'
import sys
from importlib import metadata
wanted = {n.lower().replace("_", "-") for n in sys.argv[1].split()}
for dist in metadata.distributions():
    name = (dist.metadata["Name"] or "").lower().replace("_", "-")
    if name in wanted:
        print(f"{name}=={dist.version}")
PY
}

if [ "$UNINSTALL" = 1 ]; then
  echo "Removing Joi Coach from $USER_DATA"
  for entry in "${PLACES[@]}"; do remove "${entry%%|*}" "${entry##*|}"; done
  echo "Joi's memories, if any, stay in $USER_DATA/joi_coach (delete that folder to forget everything)."
  echo "Its Python packages stay installed (the webui may share them): see extensions/joi_coach/requirements.txt."
  exit 0
fi

if [ "$REQUIREMENTS_ONLY" = 1 ]; then
  echo "Installing only Joi Coach's Python requirements for $WEBUI"
else
  echo "Installing Joi Coach into $USER_DATA"
  for entry in "${PLACES[@]}"; do place "${entry%%|*}" "${entry##*|}"; done
fi

if [ "$SKIP_REQUIREMENTS" = 1 ]; then
  echo "Skipped the Python requirements (--skip-requirements)."
else
  PY=$(find_python)
  "$PY" -m pip --version >/dev/null 2>&1 || die "$PY has no pip"
  CONSTRAINTS=$(mktemp)
  trap 'rm -f "$CONSTRAINTS"' EXIT
  versions "$PY" | sort > "$CONSTRAINTS"
  BEFORE=$(cat "$CONSTRAINTS")
  echo "Requirements into $PY, with these of the webui's packages held as they are:"
  sed 's/^/    /' "$CONSTRAINTS"
  if ! grep -q '^torch==' "$CONSTRAINTS"; then
    echo "  The webui has no torch (a llama.cpp-only build): adding the CPU build for the embedding model."
    if [ -n "$TORCH_INDEX" ]; then
      "$PY" -m pip install --quiet torch --index-url "$TORCH_INDEX" -c "$CONSTRAINTS"
    else
      "$PY" -m pip install --quiet torch -c "$CONSTRAINTS"
    fi
    versions "$PY" | sort > "$CONSTRAINTS"
    BEFORE=$(cat "$CONSTRAINTS")
  fi
  if ! "$PY" -m pip install --quiet -r "$REQUIREMENTS" -c "$CONSTRAINTS"; then
    die "pip could not install Joi's requirements without changing the webui's packages (see above); nothing of the webui's was changed"
  fi
  AFTER=$(versions "$PY" | sort)
  CHANGED=$(comm -23 <(echo "$BEFORE") <(echo "$AFTER"))  # held versions that are gone
  [ -z "$CHANGED" ] || die "the webui's packages changed unexpectedly: $CHANGED"
  echo "  The webui's packages are unchanged; newly added: $(comm -13 <(echo "$BEFORE") <(echo "$AFTER") | xargs)"
fi

[ "$REQUIREMENTS_ONLY" = 0 ] || exit 0
cat <<EOF
Done. Start the webui with the extension, e.g.:
  python server.py --extensions joi_coach
then pick the "Joi" character (chat or chat-instruct mode). Joi's tab is "Joi Coach".
To remove: $0 --uninstall "$WEBUI"
EOF
