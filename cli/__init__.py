"""``nba-archetypes``: the app's answers on the command line, and the pipeline's controls.

An interface like ``ui/``: it stands on ``common/`` and, for the ``--inline`` and repair
commands, runs the workers' code in this process. Commands by group:

* :mod:`cli.answers`: ``player``, ``similar``; :mod:`cli.league`: ``league``, ``team``;
  :mod:`cli.reports`: ``new-season`` (read from the champion, as the app reads it);
* :mod:`cli.work`, :mod:`cli.follow`: ``refresh``, ``train``, ``seed`` (queue tasks; ``--wait``
  follows them), :mod:`cli.status`: ``status``; :mod:`cli.inline`: ``seed``/``train
  --inline`` (here, no broker);
* :mod:`cli.data`: ``rebuild`` (the fetch worker's code, here); :mod:`cli.backups`:
  ``backup``, ``restore`` (the data volume, here, in any service's image).

Exit codes (:mod:`cli.output`): 0 done, 1 failed or no champion yet, 2 bad input, 3
interrupted (the worker running it stopped, and no worker ran it again before ``--timeout``).
Errors go to stderr, one line with the cause and what to do (``--verbose``: details below).
"""
