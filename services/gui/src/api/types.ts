/**
 * The API's shapes as the GUI uses them: every type is the Static type of a schema in
 * @vaultflow/schemas (the same schemas that validate requests and answers), never retyped here.
 */
import type {
  Static,
  BackupListResponse,
  BackupResponse,
  ExecutionDetailResponse,
  ExecutionResponse,
  FlowResponse,
  FlowSummary,
  GroupMemberListResponse,
  GroupResponse,
  JobLogListResponse,
  PolicyResponse,
  RepositoryResponse,
  ScheduleResponse,
  TestFlowResponse,
  TokenResponse,
  UserResponse,
  VcenterResponse,
  VmResponse,
  VmSummary,
} from '@vaultflow/schemas';

export type Flow = FlowResponse;
export type FlowLastStatus = Flow['status']['last_execution_status'];
export type Execution = ExecutionResponse;
export type ExecutionDetail = ExecutionDetailResponse;
export type ExecutionStatus = Execution['status'];
export type VmRun = ExecutionDetail['vms'][number];
export type JobLogLine = Static<typeof JobLogListResponse>['logs'][number];
export type FlowTest = TestFlowResponse;
export type Summary = FlowSummary;
export type Schedule = ScheduleResponse;
export type Group = GroupResponse;
export type GroupMember = Static<typeof GroupMemberListResponse>['members'][number];
export type Repository = RepositoryResponse;
export type Policy = PolicyResponse;
export type Vm = Static<typeof VmSummary>;
export type VmDetail = VmResponse;
export type Backup = Static<typeof BackupListResponse>['backups'][number];
export type BackupDetail = BackupResponse;
export type Vcenter = VcenterResponse;
export type User = UserResponse;
export type ApiToken = TokenResponse;
export type Role = User['role'];
