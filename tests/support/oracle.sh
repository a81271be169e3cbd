# Sourced by the tests that compare peft with the project venv's Python libraries (transformers, HF peft, timm).

# Exits 77 (ctest: skipped), saying why, when the venv's Python `$1` is not there.
require_oracle() {
  if [[ ! -x "$1" ]]; then
    echo "skipped: no Python oracle at $1 (bash scripts/install_python.sh makes it)"
    exit 77
  fi
}
