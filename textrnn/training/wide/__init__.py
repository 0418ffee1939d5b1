"""The wide path, fitted once the recurrent model is trained: character n-gram TF-IDF
features, the linear model and its solver, and the mixture with the recurrent model."""
