#!/usr/bin/env bash
# Installs the system packages Links Detector needs on a fresh Debian/Ubuntu
# machine: Tesseract (the reader), the fonts the page generator draws with,
# a word list, and the libraries Qt needs to open a window (or run offscreen).
set -euo pipefail
PKGS=(
  tesseract-ocr tesseract-ocr-eng
  fonts-texgyre fonts-urw-base35 fonts-lmodern fonts-ebgaramond fonts-linuxlibertine
  fonts-dejavu-core fonts-dejavu-extra fonts-liberation2 fonts-noto-core fonts-noto-mono
  fonts-crosextra-caladea fonts-crosextra-carlito fonts-lato fonts-open-sans
  fonts-roboto-unhinted fonts-roboto-slab
  fonts-inconsolata fonts-firacode fonts-jetbrains-mono fonts-hack
  wamerican
  libegl1 libgl1 libxkbcommon0 libxkbcommon-x11-0 libfontconfig1 libdbus-1-3
  libxcb-cursor0 libxcb-icccm4 libxcb-keysyms1 libxcb-shape0 libxcb-xinerama0
)
missing=()
for p in "${PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "setup-system: all ${#PKGS[@]} system packages present"
  exit 0
fi
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
echo "setup-system: installing ${missing[*]}"
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
