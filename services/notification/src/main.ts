import { main } from '@oms/platform';
import { notificationService } from './service.ts';

main(notificationService);
