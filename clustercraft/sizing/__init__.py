"""Measuring and sizing, as plain libraries: the peak meter and the probe worker, partition
sizes from metadata, profiling, the recommended cluster and the verdict, and the reports with
their static HTML. Nothing here needs IPython; the kernel's glue (``clustercraft.kernel``)
shows them in notebooks.
"""
