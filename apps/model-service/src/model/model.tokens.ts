/** Injection token for the {@link LoadedModel} that `createApp` loads before Nest starts. */
export const LOADED_MODEL = Symbol('LOADED_MODEL');
