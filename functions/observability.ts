import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';

/** Shared by every handler: JSON logs and EMF metrics under one namespace (POWERTOOLS_* variables tune them). */
export const logger = new Logger({ serviceName: 'xray-lake' });
export const metrics = new Metrics({ namespace: 'XRayLake', serviceName: 'xray-lake' });
