import { ChangeproofError } from '../../errors.ts';

export type ServiceNowErrorCode =
  'SERVICENOW_UNAUTHORIZED' | 'SERVICENOW_REFUSED' | 'CREDENTIALS_MISSING';

/** ServiceNow refused a request (not an outage: outages are UpstreamErrors). */
export class ServiceNowError extends ChangeproofError<ServiceNowErrorCode> {}
