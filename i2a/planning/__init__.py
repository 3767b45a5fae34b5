"""Planning with Sokoban models (paper Sec. 4.3, Table 1; App. D.3): MCTS over the perfect simulator with
a value network, and I2A with an outer Monte Carlo search over whole imagined episodes."""
