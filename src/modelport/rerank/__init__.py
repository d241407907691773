"""`POST /v1/rerank`: documents scored against a query, locally or by a rerank vendor."""
