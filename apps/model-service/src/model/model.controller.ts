import { V2_PLATFORM, type ModelInfoResponse } from '@mlbg/contract';
import { Controller, Get } from '@nestjs/common';
import { ModelService } from './model.service';

@Controller('model')
export class ModelController {
  constructor(private readonly model: ModelService) {}

  /** What the model is and how to call it: its signature plus name, version, sha256 and metadata. */
  @Get()
  describe(): ModelInfoResponse {
    const { loaded } = this.model;
    return {
      name: loaded.name,
      version: loaded.version,
      sha256: loaded.sha256,
      platform: V2_PLATFORM,
      ...loaded.signature,
      metadata: { ...loaded.metadata },
    };
  }
}
