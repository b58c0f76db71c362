// The contracts between processes: the record types generated from schemas/*.avsc (records.ts), and
// what each processor and sink writes under which registry subject.
export type * from './records.ts';
export { GENERATED_RECORDS_PATH, renderRecordTypes } from './render-records.ts';
export { contract, mergeContracts, processorContracts, sinkContracts } from './topic-contracts.ts';
export type { Contract } from './topic-contracts.ts';
