"""socklab's host side: a lab of containers (Lab, Node, Fault) driven through the Docker SDK, and scenarios."""
