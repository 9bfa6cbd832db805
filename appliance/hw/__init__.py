"""The till's devices, each a real driver and a simulated twin with the same life cycle.

- `scanner`: serial (pyserial), USB keyboard wedge (with `wedge.BurstDetector`), simulated.
- `printer`: serial, USB, network, device-file and simulated ESC/POS printers with DLE EOT status;
  `render` turns receipts into ESC/POS bytes; `preview` turns bytes back into text and PNG.
- `drawer`: GPIO solenoid (gpiozero), kicked through the printer, simulated.
- `devices`: builds each from the `[scanner]`, `[printer]`, `[drawer]` config sections.

Nothing here imports the till's services or store: `appliance.printing` and
`appliance.cash_drawer` use these devices, not the other way round.
"""
