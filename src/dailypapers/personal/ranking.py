"""The For you ranking itself, on plain arrays: no database, so the page, the API, the digest and
the offline benchmark (bench/recommend.py) all run exactly this code.

A candidate's interest is mostly a soft maximum of its cosines to the user's profile papers
(upvoted or saved), not its cosine to their average: a reader of RL and speech papers has two
clusters whose centroid sits between them and near neither, while each RL (or speech) candidate
is close to some profile papers. A quarter of the centroid cosine is mixed in (the benchmark's
best), papers marked Not interested push their neighbours down, papers by authors the user follows
are lifted, and papers shown many times without a click fade (selectors.py).

The constants were chosen on bench/recommend.py (hf_daily_papers, 219 submitters, leave-last-out,
chosen on half of them); see the README's "For you" benchmark for the grid and the numbers.
"""

from dataclasses import dataclass

import numpy as np

# Without a temperature: the mean of the k highest cosines to profile papers (benchmarked, not shipped).
INTEREST_TOP_K = 2
# Weight of log(1 + upvotes) / max over the candidates (0..1) added to the interest (cosines are ~0..1).
# Measured: every weight tried (0.05, 0.1, 0.2) lowered hit@10 on the benchmark's dev users, so none;
# kept as a parameter (and the cold start is the trending list, popularity alone).
POPULARITY_WEIGHT = 0.0
# The soft maximum's temperature (None: the top-k mean instead). Chosen on the benchmark (0.02-0.3).
INTEREST_TEMPERATURE = 0.1
# Share of the cosine to the profile's centroid mixed into the interest: a little of the user's
# overall direction ranks best on the benchmark, while the soft maximum keeps each interest alive.
CENTROID_WEIGHT = 0.25
# Weight of listing recency within the window (1 = newest listing, 0 = oldest): a tie-breaker, not
# measured (the benchmark ranks one week, whose listing order says little).
RECENCY_WEIGHT = 0.02
# A candidate this close (cosine) to a Not interested paper or closer is pushed down by
# NEGATIVE_WEIGHT x (cosine - NEGATIVE_FLOOR) / (1 - NEGATIVE_FLOOR): a near-duplicate loses ~NEGATIVE_WEIGHT.
NEGATIVE_FLOOR = 0.5
NEGATIVE_WEIGHT = 1.0
# Added to a paper by an author or organization the user follows, or that a followed search's words
# match (cosine units, so about the gap between a close neighbour of the profile and an unrelated
# paper). Not measured: the benchmark's data has no follows.
FOLLOWED_WEIGHT = 0.2
# The profile is grouped into at most this many interest clusters once per profile change (cached
# with it); each candidate's interest is first bounded from below through the clusters, and only the
# SHORTLIST best by that bound get the exact soft maximum over every profile paper. A profile of at
# most PROFILE_CLUSTERS papers is its own clusters, and a window of at most SHORTLIST papers is
# ranked exactly: the bound only decides which papers of a large window are worth the exact score.
PROFILE_CLUSTERS = 16
SHORTLIST = 600


def normalise(matrix: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(matrix, axis=-1, keepdims=True)
    return matrix / np.maximum(norms, 1e-12)


def interest(candidates: np.ndarray, profile: np.ndarray, *, top_k: int = INTEREST_TOP_K,
             temperature: float | None = INTEREST_TEMPERATURE,
             weights: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """(interest per candidate, index of each candidate's nearest profile paper). Rows are unit vectors.

    With a temperature: the soft maximum t * log(mean(exp(cos / t))) over all profile papers (near
    the max for a small t, near the mean cosine for a large one), the mean weighted by `weights` (one
    per profile paper, summing to 1; None: equal); without: the mean of the top_k cosines."""
    n, m = candidates.shape[0], profile.shape[0]
    if n == 0 or m == 0:
        return np.zeros(n, np.float32), np.full(n, -1)
    sims = candidates @ profile.T
    nearest = sims.argmax(axis=1)
    if temperature:
        top = sims.max(axis=1, keepdims=True)  # subtracted before exp, so nothing overflows
        spread = np.exp((sims - top) / temperature)
        soft = top[:, 0] + temperature * np.log(spread.mean(axis=1) if weights is None else spread @ weights)
        return soft, nearest
    k = min(top_k, m)
    if k == 1:
        return sims.max(axis=1), nearest
    return np.partition(sims, m - k, axis=1)[:, -k:].mean(axis=1), nearest


@dataclass(frozen=True)
class Clusters:
    """A profile's interests: the unnormalised mean of each cluster's unit rows and its share of the rows."""

    means: np.ndarray  # (k, dim) float32
    shares: np.ndarray  # (k,) float32, summing to 1


def cluster_profile(profile: np.ndarray, *, weights: np.ndarray | None = None, clusters: int = PROFILE_CLUSTERS,
                    iterations: int = 8) -> Clusters:
    """Spherical k-means of the profile's unit rows, started from farthest points (deterministic, so
    the same profile always gives the same clusters). At most `clusters` rows: each is its own.
    `weights` as interest() takes them; a cluster's mean and share are weighted by them."""
    m = profile.shape[0]
    weights = np.full(m, 1 / max(m, 1), np.float32) if weights is None else weights.astype(np.float32)
    if m <= clusters:
        return Clusters(means=profile.astype(np.float32), shares=weights)
    chosen = [0]
    closest = profile @ profile[0]
    for _ in range(clusters - 1):
        chosen.append(int(closest.argmin()))
        closest = np.maximum(closest, profile @ profile[chosen[-1]])
    centres = profile[chosen]
    for _ in range(iterations):
        assign = (profile @ centres.T).argmax(axis=1)
        sums = np.zeros_like(centres)
        np.add.at(sums, assign, profile)
        centres = np.where(np.bincount(assign, minlength=clusters)[:, None] > 0, normalise(sums), centres)
    assign = (profile @ centres.T).argmax(axis=1)
    shares = np.bincount(assign, weights=weights, minlength=clusters)
    sums = np.zeros_like(centres)
    np.add.at(sums, assign, weights[:, None] * profile)
    kept = shares > 0
    return Clusters(means=(sums[kept] / shares[kept, None]).astype(np.float32), shares=shares[kept].astype(np.float32))


def interest_bound(candidates: np.ndarray, clusters: Clusters, *,
                   temperature: float = INTEREST_TEMPERATURE) -> np.ndarray:
    """A lower bound of interest()'s soft maximum from the clusters alone: within a cluster the mean of
    exp(cos / t) is at least exp(mean cos / t) (Jensen), and a cluster's mean cosine is the cosine to
    its unnormalised mean. Exact when every cluster is one profile paper."""
    if candidates.shape[0] == 0 or clusters.means.shape[0] == 0:
        return np.zeros(candidates.shape[0], np.float32)
    sims = candidates @ clusters.means.T
    top = sims.max(axis=1, keepdims=True)
    return top[:, 0] + temperature * np.log(np.exp((sims - top) / temperature) @ clusters.shares)


def kmeans_interest(candidates: np.ndarray, profile: np.ndarray, *, clusters: int, iterations: int = 10,
                    seed: int = 0) -> np.ndarray:
    """Cluster the profile (spherical k-means) and score by the nearest cluster centre (benchmarked, not used)."""
    m = profile.shape[0]
    k = max(1, min(clusters, m))
    rng = np.random.default_rng(seed)
    centres = profile[rng.choice(m, size=k, replace=False)]
    for _ in range(iterations):
        assign = (profile @ centres.T).argmax(axis=1)
        centres = normalise(np.vstack([profile[assign == c].mean(axis=0) if (assign == c).any() else centres[c]
                                       for c in range(k)]))
    return (candidates @ centres.T).max(axis=1)


def centroid_interest(candidates: np.ndarray, profile: np.ndarray, *, weights: np.ndarray | None = None) -> np.ndarray:
    """The single-centroid baseline: cosine to the normalised (weighted) mean of the profile."""
    if candidates.shape[0] == 0 or profile.shape[0] == 0:
        return np.zeros(candidates.shape[0], np.float32)
    mean = profile.mean(axis=0) if weights is None else weights @ profile
    return candidates @ normalise(mean).astype(candidates.dtype)


def popularity(upvotes: np.ndarray) -> np.ndarray:
    """log(1 + upvotes) scaled to 0..1 over the candidates."""
    values = np.log1p(np.maximum(np.asarray(upvotes, dtype=np.float64), 0))
    top = values.max() if values.size else 0.0
    return values / top if top > 0 else np.zeros_like(values)


def negative_penalty(candidates: np.ndarray, negatives: np.ndarray) -> np.ndarray:
    if candidates.shape[0] == 0 or negatives.shape[0] == 0:
        return np.zeros(candidates.shape[0], np.float32)
    closest = (candidates @ negatives.T).max(axis=1)
    return NEGATIVE_WEIGHT * np.clip((closest - NEGATIVE_FLOOR) / (1 - NEGATIVE_FLOOR), 0, None)


def scores(*, candidates: np.ndarray, profile: np.ndarray, upvotes: np.ndarray, recency: np.ndarray | None = None,
           negatives: np.ndarray | None = None, followed: np.ndarray | None = None, weights: np.ndarray | None = None,
           clusters: Clusters | None = None, shortlist: int = SHORTLIST, top_k: int = INTEREST_TOP_K,
           temperature: float | None = INTEREST_TEMPERATURE, centroid_weight: float = CENTROID_WEIGHT,
           popularity_weight: float = POPULARITY_WEIGHT) -> tuple[np.ndarray, np.ndarray]:
    """(score per candidate, index of its nearest profile paper or -1), higher is better. `followed`:
    a boolean per candidate, whether it is by an author or organization the user follows or a followed
    search matches it. `weights`: the profile papers' (interest()). With `clusters` (the profile's,
    cluster_profile) and more than `shortlist` candidates, only the shortlist best by the clusters'
    bound get the exact interest (and a nearest profile paper); the others keep the bound, which is
    never above their exact score."""
    total = np.zeros(candidates.shape[0], np.float32)
    if centroid_weight:
        total += centroid_weight * centroid_interest(candidates, profile, weights=weights)
    total += np.float32(popularity_weight) * popularity(upvotes).astype(np.float32)
    if recency is not None:
        total += np.float32(RECENCY_WEIGHT) * recency.astype(np.float32)
    if negatives is not None:
        total -= negative_penalty(candidates, negatives).astype(np.float32)
    if followed is not None:
        total += np.float32(FOLLOWED_WEIGHT) * followed
    share = np.float32(1 - centroid_weight)
    nearest = np.full(candidates.shape[0], -1)
    if clusters is None or temperature is None or candidates.shape[0] <= shortlist:
        liked, nearest = interest(candidates, profile, top_k=top_k, temperature=temperature, weights=weights)
        return total + share * liked, nearest
    bound = total + share * interest_bound(candidates, clusters, temperature=temperature)
    best = np.argpartition(-bound, shortlist)[:shortlist]
    liked, nearest[best] = interest(candidates[best], profile, temperature=temperature, weights=weights)
    bound[best] = total[best] + share * liked
    return bound, nearest
