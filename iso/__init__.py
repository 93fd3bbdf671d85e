"""The bootable rescue image: a minimal Linux assembled from Debian's own packages.

Modules, in build order: ``rootfs`` (the file tree: busybox, udev, kmod,
sg3_utils, ddrescue, the frozen app, kernel modules), ``elfdeps`` (which
shared libraries those programs pull in), ``initramfs`` (reproducible cpio +
zstd), ``bootcfg`` (isolinux and GRUB configuration), ``image`` (hybrid ISO,
USB disk image, PXE files) and ``build`` (the command behind `make iso`).
Facts used are recorded in docs/testbed.md, "The bootable image".
"""
