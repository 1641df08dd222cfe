"""The live view of a lab (socklab watch) and the replay of a recorded run."""
