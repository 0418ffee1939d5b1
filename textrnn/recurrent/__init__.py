"""The recurrent classifier: embedding, stacked LSTM/GRU layers, pooling and the
dense head, and the fused LSTM kernel."""
