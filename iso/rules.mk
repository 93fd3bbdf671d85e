# Bootable images (included by the top-level Makefile). Outputs go to out/.
#   make iso   out/rescue.iso      hybrid ISO: BIOS (isolinux) + UEFI (shim, signed GRUB)
#   make usb   out/rescue-usb.img  the same, plus a FAT partition RESCUEDATA
#   make pxe   out/pxe/            vmlinuz + initrd.img for network boot
# ISO_ARGS='--append rescue.run=...' adds kernel arguments to every boot entry.
ISO_ARGS ?=

.PHONY: iso usb pxe freeze

freeze: deps-image setup
	$(PY) build/freeze.py

iso: deps-image setup
	$(PY) -m iso.build iso $(ISO_ARGS)

usb: deps-image setup
	$(PY) -m iso.build usb $(ISO_ARGS)

pxe: deps-image setup
	$(PY) -m iso.build pxe $(ISO_ARGS)
