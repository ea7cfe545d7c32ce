"""Handle with Care (issue 17): notices to schools and leerplicht offices, their feed, their
acknowledgement and Veilig Thuis's confirmation (the domain is radar.case_hwc)."""
