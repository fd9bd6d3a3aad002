# SPDX-License-Identifier: GPL-2.0
#
# simple_remap: the module (driver/, through driver/Kbuild), the user-space library, tool and
# tests (userspace/), and the QEMU targets that load and test the module
# in a guest (scripts/).
#
#   make                  module (driver/simple_remap.ko) + user space, against $(KDIR)
#   make run, check, ...  the guest targets: scripts/guest.sh's commands (scripts/guest.sh -h)
#   make check-all        make check on every kernel of scripts/kernel.sh (-l)
#   make check-debug      the suite, fault injection and KASAN/lockdep controls on
#                         each debug kernel of scripts/debug-kernel.sh (-l), KVER= one
#   make lint             checkpatch, sparse, W=1, clang-format, shellcheck
#   make install          srctl, library, headers, man page, pkg-config, udev rule
#   make deb              Debian packages: simple-remap-dkms, simple-remap-tools

# The running kernel's headers when installed, else the newest installed.
KDIR ?= $(firstword $(wildcard /lib/modules/$(shell uname -r)/build) \
	$(shell ls -d /lib/modules/*/build 2>/dev/null | sort -V | tail -n 1))
# The guest targets are scripts/guest.sh's commands; the kernels, kernel.sh's.
GUEST_TARGETS := $(shell scripts/guest.sh -l)
KVERS := $(shell scripts/kernel.sh -l)

all: module userspace

module:
	@test -n "$(KDIR)" || { echo "make: no kernel headers: install linux-headers-$$(uname -r) or pass KDIR=" >&2; exit 1; }
	$(MAKE) -C $(KDIR) M=$(CURDIR)/driver modules

userspace:
	$(MAKE) -C userspace

clean-module:
	@test -z "$(KDIR)" || $(MAKE) -C $(KDIR) M=$(CURDIR)/driver clean

clean: clean-module
	$(MAKE) -C userspace clean

$(GUEST_TARGETS):
	scripts/guest.sh $@

# Every kernel, even after one fails; fails if any did.
check-all:
	@test -n "$(KVERS)" || { echo "make: scripts/kernel.sh -l listed no kernel" >&2; exit 1; }
	@rc=0; for k in $(KVERS); do $(MAKE) check KVER=$$k || rc=1; done; exit $$rc

lint:
	scripts/lint.sh

PREFIX ?= /usr/local
UDEVDIR ?= /etc/udev/rules.d

install: userspace
	$(MAKE) -C userspace install PREFIX=$(PREFIX) DESTDIR=$(DESTDIR)
	install -D -m 0644 driver/60-simple-remap.rules $(DESTDIR)$(UDEVDIR)/60-simple-remap.rules

# The Debian packages simple-remap-dkms (DKMS builds the module for every
# kernel with headers) and simple-remap-tools, into ~/.cache/simple_remap/deb.
deb:
	scripts/deb.sh

.PHONY: all module userspace clean-module clean $(GUEST_TARGETS) check-all lint install deb
