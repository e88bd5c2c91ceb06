// The orchestration queue's result activities are the run lifecycle's (see @stampede/runs).
export { createPersistenceActivities, type PersistenceActivities, type PersistenceDeps } from '@stampede/runs/result'
