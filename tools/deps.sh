#!/usr/bin/env bash
# Installs the Debian packages xturn needs; a no-op when all are present (make deps).
set -euo pipefail

packages=(
	gcc make pkg-config clang llvm clang-format    # user space, BPF objects, make format
	bpftool libbpf-dev libxdp-dev xdp-tools libelf-dev zlib1g-dev
	libssl-dev libyaml-dev libcunit1-dev libpcap-dev libmnl-dev libmicrohttpd-dev
	libclang-rt-14-dev                               # sanitizers and libFuzzer runtime for clang
	iproute2 ethtool util-linux procps iputils-ping  # namespaces, veth offloads, nsenter, taskset, ping
	coturn tcpdump tshark gnuplot-nox curl python3  # real peers, captures, bench plots, test clients
)

missing=()
for pkg in "${packages[@]}"; do
	status=$(dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null || true)
	[[ "$status" == "install ok installed" ]] || missing+=("$pkg")
done
((${#missing[@]} == 0)) && exit 0

echo "deps: installing ${missing[*]}"
if [[ $(id -u) -ne 0 ]]; then
	echo "deps: missing Debian packages (${missing[*]}); run 'make deps' as root" >&2
	exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -q
apt-get install -y -q --no-install-recommends "${missing[@]}"
