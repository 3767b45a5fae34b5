"""The environment-model pipeline (paper Sec. 3.1 and Appendix B): data -> training -> metrics ->
export -> pictures of imagination. It imports the talk's modules and the environment models in `i2a`;
nothing in `i2a` imports it."""
