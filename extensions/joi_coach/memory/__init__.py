"""Memory streams: storage (SQLite + FAISS cache), embeddings and retrieval."""
