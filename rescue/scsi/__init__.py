"""scsi."""
