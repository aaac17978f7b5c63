[watchdog]
timeout = 20s
