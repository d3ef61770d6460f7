"""Many runs at once (optional): sweeps and searches as Ray tasks, and statistics over seeds.

The core package never imports this subpackage."""
