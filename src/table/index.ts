export * from './clusterTables';
export { SummaryTable } from './summaryTable';
export { VerdictLine } from './verdictLine';
export { WorkersTable } from './workersTable';
export * from './memoryBar';
export * from './sort';
export { formatAge, formatDuration } from '../format';
