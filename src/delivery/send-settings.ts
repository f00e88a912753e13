import type { AlertSettings } from '../alerts/raise-alert.ts';
import type { Config } from '../config.ts';
import type { EditionSettings } from './edition-messages.ts';

/**
 * What sending an issue reads: the edition it renders, the SMTP pool and its rate, batch size and
 * failure limit, whether approval is required, personal order and its holdout, the alerts it raises, and RECAP_TZ for the week's content.
 */
export type SendSettings = EditionSettings &
  AlertSettings &
  Pick<Config, 'smtp' | 'send' | 'requireApproval' | 'timeZone' | 'personalOrder'> &
  Partial<Pick<Config, 'personalOrderHoldout'>>;
