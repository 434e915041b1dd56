import { render } from 'preact';
import { App } from './app';
import { useLive } from './live';
import './styles.css';

function Root() {
  return <App live={useLive()} />;
}

const root = document.getElementById('app');
if (root) render(<Root />, root);
