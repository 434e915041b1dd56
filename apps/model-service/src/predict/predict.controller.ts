import type { PredictResponse } from '@mlbg/contract';
import { Body, Controller, HttpCode, Post } from '@nestjs/common';
import { PredictService } from './predict.service';

@Controller('predict')
export class PredictController {
  constructor(private readonly predictions: PredictService) {}

  @Post()
  @HttpCode(200)
  predict(@Body() body: unknown): Promise<PredictResponse> {
    return this.predictions.predict(body);
  }
}
