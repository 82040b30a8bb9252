-- Which process runs a job: "pid:starttime" (see jobq.c). Start-up recovery
-- requeues only jobs whose owner is gone, and a process that stops gives
-- back only its own, so two mcpdeck processes can share one queue.
ALTER TABLE jobs ADD COLUMN owner TEXT;
