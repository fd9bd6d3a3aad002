# SPDX-License-Identifier: GPL-2.0
#
# simple_remap: the module (through Kbuild), the user-space library, tool and
# tests (userspace/), and the QEMU targets that load and test the module
# in a guest (scripts/).
#
#   make                  module + user space, against $(KDIR)
#   make run              boot a guest, load the module, show two processes sharing it
#   make check            the whole test suite in a guest (KVER=6.1 or 6.12)
#   make shell            a guest shell with the module loaded
#   make stress           the stress test, stress-ng and trinity (STRESS_SECONDS=60)
#   make lint             checkpatch, sparse, W=1, clang-format, shellcheck
#   make install          srctl, library, headers, man page, pkg-config, udev rule

# The running kernel's headers when installed, else the newest installed.
KDIR ?= $(firstword $(wildcard /lib/modules/$(shell uname -r)/build) \
	$(shell ls -d /lib/modules/*/build 2>/dev/null | sort -V | tail -n 1))
export KVER ?= 6.1

all: module userspace

module:
	@test -n "$(KDIR)" || { echo "make: no kernel headers: install linux-headers-$$(uname -r) or pass KDIR=" >&2; exit 1; }
	$(MAKE) -C $(KDIR) M=$(CURDIR) modules

userspace:
	$(MAKE) -C userspace

clean-module:
	@test -z "$(KDIR)" || $(MAKE) -C $(KDIR) M=$(CURDIR) clean

clean: clean-module
	$(MAKE) -C userspace clean

run check stress shell check-harness:
	scripts/guest.sh $@

lint:
	scripts/lint.sh

PREFIX ?= /usr/local
UDEVDIR ?= /etc/udev/rules.d

install: userspace
	$(MAKE) -C userspace install PREFIX=$(PREFIX) DESTDIR=$(DESTDIR)
	install -D -m 0644 driver/60-simple-remap.rules $(DESTDIR)$(UDEVDIR)/60-simple-remap.rules

.PHONY: all module userspace clean-module clean run check stress shell check-harness lint install
