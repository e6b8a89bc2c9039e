"""The course's small GPT: a generative language model trained in the course, offline.

The only pretrained weights on the course's machines are MiniLM's (an
encoder, which cannot write text). Where a notebook needs a model that
generates, it uses this one: a GPT-2-architecture model of about half a
million parameters with a byte-level BPE tokenizer, trained with fixed seeds
on the Python documentation that ships with Python (:func:`corpus`), in
seconds on two cores. It is saved in the standard Hugging Face layout, so a
notebook loads it with ``AutoModelForCausalLM.from_pretrained(folder)``, the
same call that loads a hub model online.

* :func:`corpus`, :func:`documents`: the text (deduplicated, split, hashed);
* :func:`small_gpt`: the model's folder (cached, verified, rebuilt when needed);
* :func:`load`: ``(model, tokenizer)`` through the Auto classes;
* :func:`metadata`, :func:`verify`: build facts, metrics and checksums;
* :func:`encode_splits`, :func:`perplexity`: the token ids of the two splits,
  and the perplexity of a causal language model on them.
"""

from mlcourse.gpt.build import (
    BUILD_VERSION,
    CONFIG,
    METADATA_FILE,
    SPECIAL_TOKEN,
    GPTBuildError,
    build_key,
    cache_folder,
    encode_splits,
    fallback_folder,
    load,
    metadata,
    perplexity,
    small_gpt,
    train,
    train_tokenizer,
    verify,
)
from mlcourse.gpt.corpus import Corpus, corpus, documents

__all__ = [
    "BUILD_VERSION",
    "CONFIG",
    "METADATA_FILE",
    "SPECIAL_TOKEN",
    "Corpus",
    "GPTBuildError",
    "build_key",
    "cache_folder",
    "corpus",
    "documents",
    "encode_splits",
    "fallback_folder",
    "load",
    "metadata",
    "perplexity",
    "small_gpt",
    "train",
    "train_tokenizer",
    "verify",
]
