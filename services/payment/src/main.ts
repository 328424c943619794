import { main } from '@oms/platform';
import { paymentService } from './service.ts';

main(paymentService);
