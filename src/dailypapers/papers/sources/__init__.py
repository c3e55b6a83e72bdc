"""Where papers come from: one module per source, each yielding PaperRecord or Skipped.

hf_daily (Hugging Face daily lists), arxiv_api (arXiv search API), arxiv_oai
(OAI-PMH bulk harvest, resumable) and jsonl (arXiv metadata snapshot files);
http holds the polite fetch they share.
"""
