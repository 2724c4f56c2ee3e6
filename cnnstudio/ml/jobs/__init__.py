"""Every piece of ML work the window asks for, as plain jobs that could run in another process.

`requests` and `results` are plain data (no TensorFlow), so the window imports them;
the job functions (`training`, `inspection`, `explanation`, `exporting`, `importing`,
`datasets`, `system`) import TensorFlow and run only where `host.JobHost` runs them.
`protocol` says how the two sides talk. Nothing is imported here, so importing a
submodule never loads TensorFlow by the back door.
"""
