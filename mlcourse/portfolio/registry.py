"""The course's portfolio projects: one entry each, in the order a learner meets them.

A project is a notebook that records the figures its learner reached
(:func:`mlcourse.results.record`). Its entry says what the project is, which
figures to show (with their names and the direction that is better), which
of them make it *done*, the resume bullets to fill from them, how to
reproduce it and what to try next. Adding a project is adding one
:class:`Project` to :data:`PROJECTS`.

Two rules keep the portfolio honest:

* every number in a bullet comes from a recorded figure: a template names its
  figures as ``{metric}`` and holds no number of its own (a descriptor such as
  "k-fold" is fine), and a bullet whose figure is missing is not written;
* the prose here holds no digits at all, so that every number on the page is
  one the learner's notebook measured (the tests check it).
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Metric:
    """One figure a project records: ``name`` is the metric key in ``results.jsonl``."""

    name: str
    title: str
    better: str = ""  # "higher", "lower", or "" for a count or a setting


@dataclass(frozen=True)
class Project:
    key: str  # the project name the notebook records under
    title: str
    notebook: str  # workspace-relative
    summary: str
    stack: tuple[str, ...]
    metrics: tuple[Metric, ...]
    required: tuple[str, ...]  # the figures that make the project done
    bullets: tuple[str, ...] = ()
    plot: tuple[str, ...] = ()  # figures compared in the project's plot (one unit)
    commands: tuple[str, ...] = ()  # how to run the project's service, if it has one
    next_steps: tuple[str, ...] = ()
    generic: bool = field(default=False, compare=False)  # not in the registry

    def metric(self, name: str) -> Metric:
        for metric in self.metrics:
            if metric.name == name:
                return metric
        return Metric(name, name.replace("_", " "))


PROJECTS: tuple[Project, ...] = (
    Project(
        key="housing_end_to_end",
        title="California housing prices, end to end",
        notebook="02_frameworks/housing_end_to_end.ipynb",
        summary=(
            "A regression project run the way a team runs one: frame the problem and its "
            "metric, split before looking, explore, clean and engineer features inside a "
            "scikit-learn pipeline (custom transformers, k-means location features), compare "
            "models by cross-validation, tune a random forest, and evaluate once on the test "
            "set with a confidence interval."
        ),
        stack=("pandas", "scikit-learn", "matplotlib"),
        metrics=(
            Metric("test_rmse", "test RMSE of the final model", "lower"),
            Metric("cv_rmse", "best cross-validated RMSE of the search", "lower"),
            Metric("baseline_rmse", "RMSE of always predicting the mean", "lower"),
            Metric("test_size", "held-out districts"),
        ),
        required=("test_rmse",),
        bullets=(
            "Built an end-to-end scikit-learn pipeline (custom transformers, k-means location "
            "features, a tuned random forest) for California district house values: test RMSE "
            "{test_rmse}, against {baseline_rmse} for always predicting the mean.",
            "Kept the evaluation honest: the test set was used once, on {test_size} held-out "
            "districts, for a test RMSE of {test_rmse} (cross-validated {cv_rmse} during the "
            "search).",
        ),
        plot=("baseline_rmse", "cv_rmse", "test_rmse"),
        next_steps=(
            "Try gradient boosting (LightGBM) against the forest, under the same folds.",
            "Report the error by price band: the districts at the cap are under-predicted.",
            "Serve the pipeline behind a validated endpoint, as in the sentiment API project.",
        ),
    ),
    Project(
        key="titanic_classifiers",
        title="Titanic survival classifiers",
        notebook="02_frameworks/titanic_classifiers.ipynb",
        summary=(
            "A classification project on messy passenger records: features engineered from "
            "names, cabins and tickets in a custom transformer, four model families compared "
            "with stratified cross-validation, a tuned SVM, learning curves, precision and "
            "recall from the confusion matrix, a threshold chosen for a target recall, and a "
            "validated Kaggle submission."
        ),
        stack=("pandas", "scikit-learn", "seaborn"),
        metrics=(
            Metric("cv_accuracy", "stratified cross-validated accuracy of the tuned SVM", "higher"),
            Metric("baseline_accuracy", "accuracy of the rule 'women survive'", "higher"),
        ),
        required=("cv_accuracy",),
        bullets=(
            "Engineered features from messy passenger records (titles, decks, family size) and "
            "tuned an SVM in a scikit-learn pipeline to {cv_accuracy} stratified cross-validated "
            "accuracy, against {baseline_accuracy} for the rule 'women survive'.",
        ),
        plot=("baseline_accuracy", "cv_accuracy"),
        next_steps=(
            "Stack the four model families and check whether the gain beats the fold-to-fold "
            "spread.",
            "Report precision and recall at the chosen threshold next to accuracy.",
        ),
    ),
    Project(
        key="recommender_engine",
        title="A movie recommender, served",
        notebook="02_frameworks/recommender_engine.ipynb",
        summary=(
            "A recommender on real MovieLens ratings, evaluated on each user's future ratings "
            "(a time split): popularity and rating baselines, item-item cosine, matrix "
            "factorisation by implicit ALS and as PyTorch embeddings, ranking metrics, coverage "
            "and popularity bias, cold start by a ridge fold-in, and a FastAPI service."
        ),
        stack=("NumPy", "SciPy", "PyTorch", "FastAPI"),
        metrics=(
            Metric("ndcg_at_10", "NDCG@10 of the best model", "higher"),
            Metric("popularity_ndcg_at_10", "NDCG@10 of the popularity baseline", "higher"),
            Metric("eval_users", "users evaluated"),
        ),
        required=("ndcg_at_10",),
        bullets=(
            "Built a MovieLens recommender (implicit ALS matrix factorisation, cold start by a "
            "ridge fold-in) served with FastAPI: NDCG@10 {ndcg_at_10} against "
            "{popularity_ndcg_at_10} for popularity, on {eval_users} users' held-out future "
            "ratings.",
        ),
        plot=("popularity_ndcg_at_10", "ndcg_at_10"),
        commands=(
            "mlcourse recommender train --out models/recommender",
            "mlcourse recommender serve --model-dir models/recommender --port 8001",
        ),
        next_steps=(
            "Add implicit-feedback weighting by recency, and measure it under the same split.",
            "Re-rank for coverage, and show what it costs in NDCG.",
        ),
    ),
    Project(
        key="sentiment_api",
        title="A sentiment analysis API",
        notebook="03_specialize/sentiment_api.ipynb",
        summary=(
            "A text classifier (TF-IDF and logistic regression) served behind a FastAPI "
            "service with pydantic schemas, single and batch prediction, a health check, a "
            "clear client error for every bad input, tests that catch real bugs, timing "
            "middleware and structured access logs."
        ),
        stack=("scikit-learn", "FastAPI", "pydantic", "uvicorn"),
        metrics=(
            Metric("test_accuracy", "held-out accuracy", "higher"),
            Metric("p99_ms", "p99 server time of a single prediction", "lower"),
            Metric("p50_ms", "median server time of a single prediction", "lower"),
            Metric("batch_ms_per_text", "server time per text in a batch request", "lower"),
            Metric("requests_per_second", "throughput under load", "higher"),
        ),
        required=("test_accuracy", "p99_ms"),
        bullets=(
            "Served a sentiment model (TF-IDF and logistic regression) behind a validated "
            "FastAPI service (single and batch endpoints, health check, structured logs) at p99 "
            "{p99_ms} server time per request, held-out accuracy {test_accuracy}.",
            "Load-tested the sentiment service at {requests_per_second}, p99 {p99_ms}.",
            "Cut the serving cost per text from {p50_ms} for a single request to "
            "{batch_ms_per_text} with a batch endpoint.",
        ),
        plot=("p50_ms", "p99_ms", "batch_ms_per_text"),
        commands=(
            "mlcourse service train --out models/sentiment",
            "mlcourse service serve --model-dir models/sentiment --port 8000",
        ),
        next_steps=(
            "Measure throughput and latency over the network with a real load test against "
            "uvicorn.",
            "Swap the model for MiniLM embeddings and compare accuracy against latency.",
        ),
    ),
    Project(
        key="vision_web_app",
        title="A digit recognition web app",
        notebook="03_specialize/vision_web_app.ipynb",
        summary=(
            "A small residual CNN trained on handwritten digits with augmentation and batch "
            "normalisation, explained with saliency and Grad-CAM, calibrated by temperature "
            "scaling, and served by a FastAPI web app that accepts drawings and uploads."
        ),
        stack=("PyTorch", "NumPy", "FastAPI"),
        metrics=(
            Metric("test_accuracy", "test accuracy of the residual CNN", "higher"),
            Metric("baseline_accuracy", "test accuracy of logistic regression on pixels", "higher"),
            Metric("ece_before", "expected calibration error before temperature scaling", "lower"),
            Metric("ece_after", "expected calibration error after temperature scaling", "lower"),
        ),
        required=("test_accuracy", "ece_after"),
        bullets=(
            "Trained a small residual CNN (augmentation, batch normalisation) on handwritten "
            "digits to {test_accuracy} test accuracy, against {baseline_accuracy} for logistic "
            "regression on pixels, and shipped it as a FastAPI web app with a drawing canvas.",
            "Calibrated the classifier by temperature scaling: expected calibration error from "
            "{ece_before} to {ece_after} on held-out digits, with the same predictions.",
        ),
        plot=("ece_before", "ece_after"),
        commands=(
            "mlcourse vision train --out models/digits",
            "mlcourse vision serve --model-dir models/digits --port 8002",
        ),
        next_steps=(
            "Test the app on digits drawn by other people, and track the accuracy it reaches.",
            "Export the model to ONNX and compare the latency, as in the edge AI notebook.",
        ),
    ),
    Project(
        key="take_home_project",
        title="A take-home project: churn scores",
        notebook="04_job_search/take_home_project.ipynb",
        summary=(
            "A timed take-home as hiring teams set them: churn scores for a retention team, "
            "with leakage found and measured, cross-validation inside a pipeline that survives "
            "raw rows, tests against planted bugs, a calibration check, and an outreach plan "
            "under a cost ratio and a call budget, written up with numbers."
        ),
        stack=("pandas", "scikit-learn"),
        metrics=(Metric("cv_roc_auc", "cross-validated ROC AUC of the final pipeline", "higher"),),
        required=("cv_roc_auc",),
        bullets=(
            "Delivered a timed take-home churn model end to end (leakage found and measured, a "
            "pipeline that survives raw rows, a calibration check, an outreach plan under a "
            "call budget): cross-validated ROC AUC {cv_roc_auc}.",
        ),
        next_steps=(
            "Publish the write-up as a short blog post, with the outreach plan's expected "
            "saved revenue.",
        ),
    ),
)


def by_key() -> dict[str, Project]:
    return {project.key: project for project in PROJECTS}


def generic(key: str, metrics: list[str], notebook: str = "") -> Project:
    """An entry for figures recorded under a project the registry does not know (yet)."""
    return Project(
        key=key,
        title=key.replace("_", " ").capitalize(),
        notebook=notebook,
        summary="",
        stack=(),
        metrics=tuple(Metric(m, m.replace("_", " ")) for m in metrics),
        required=tuple(metrics),
        generic=True,
    )
