"""The annotation loop: sample paragraphs, label them in Label Studio, import, measure, check, estimate.

A researcher who takes a model to a new archive needs to know how good it is on
that text and to make it better. Each step is one small module:

- ``sample``: choose paragraphs to label from scores (uncertainty, random,
  stratified or mixed), with the sampling weight of each, without copies;
- ``labelling`` and ``tasks``: the Label Studio labelling config and task files;
- ``server``: push tasks to a Label Studio server and pull its export (SDK);
- ``export``: read Label Studio's JSON export (annotators, skips, choices);
- ``resolve``: one label set per paragraph (unanimous, majority, adjudicated);
- ``agreement``: Krippendorff's alpha, Cohen's kappa, positive rates per label;
- ``check``: likely label errors from out-of-fold probabilities (cleanlab);
- ``estimate``: precision, recall and F1 on the corpus, reweighted, with intervals.

The client-side packages (``label-studio-sdk``, ``krippendorff``, ``cleanlab``)
come with the ``annotate`` extra and are imported only where used.
"""
