# Shared by deploy/run and deploy/test: package lists, installing them
# (as root or through sudo), and building. Sourced, not executed.

# What building and running consort needs.
BUILD_PACKAGES=(
  build-essential meson ninja-build pkg-config
  libevent-dev libssl-dev libsqlite3-dev libjansson-dev libicu-dev
  libargon2-dev zlib1g-dev
  libcjose-dev libcurl4-openssl-dev
  openssl ca-certificates curl
  libsystemd-dev
  g++ libxapian-dev libmagic-dev libicu-dev libxml2-dev libexpat1-dev libzip-dev
  poppler-utils
  libexttextcat-dev libexttextcat-data
  libcmark-dev libgdk-pixbuf-2.0-dev
  librsvg2-common webp-pixbuf-loader
  libreoffice-core-nogui libreoffice-writer-nogui libreoffice-calc-nogui
  libreoffice-impress-nogui python3-uno
)
# What the test suites need on top.
TEST_PACKAGES=(
  libcmocka-dev nodejs
  clang-format
  prometheus systemd
  sqlite3 unzip
  chromium
  litmus rclone
  gvfs-backends gvfs-daemons libglib2.0-bin dbus-daemon
  clamav-daemon clamav
  shared-mime-info
  ceph-mon ceph-osd radosgw ceph-common
)

as_root() {
  if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi
}

# Install the Debian packages in "$@" that are not installed yet.
install_packages() {
  local missing=()
  for p in "$@"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing+=("$p")
  done
  if [ ${#missing[@]} -gt 0 ]; then
    echo "==> installing: ${missing[*]}"
    as_root env DEBIAN_FRONTEND=noninteractive apt-get update -q
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}"
  fi
}

# Configure (once) and build a meson build directory: build_dir DIR [meson options...]
build_dir() {
  local dir=$1; shift
  if [ ! -f "$dir/build.ninja" ]; then
    meson setup "$dir" "$@"
  fi
  ninja -C "$dir"
}
