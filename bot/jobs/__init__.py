"""Running upstream jobs fairly: admission, the queue, progress, and result delivery."""

from bot.jobs.progress import Progress
from bot.jobs.queue import JobQueue, MemberBusy, QueueFull
from bot.jobs.service import InputLoader, Job, JobInputs, JobService, ShuttingDown

__all__ = [
    "InputLoader", "Job", "JobInputs", "JobQueue", "JobService", "MemberBusy", "Progress", "QueueFull", "ShuttingDown",
]
