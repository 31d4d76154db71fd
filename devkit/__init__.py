"""Development support shared by the tests and the benchmarks: throwaway services (Redis,
Celery workers), polling, the Chromium launch configuration.

Dev-only: never imported by product code, and not in any image (``.dockerignore`` admits only
the packages the images run). Tests and benchmarks import it; neither imports the other.
"""
