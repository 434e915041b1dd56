export default {
  displayName: 'models',
  preset: '../../jest.preset.js',
};
